// Run a Python file inside Pyodide (Python in WebAssembly, as xlwings Lite runs it), offline.
//
//   node run.mjs WHEELS_DIR WORK_DIR SCRIPT.py
//
// Every wheel in WHEELS_DIR is unpacked into Pyodide's site-packages (pure-Python wheels need no
// network and no micropip); WORK_DIR is mounted at /work, the Python file's working directory, so
// it reads its task and writes its result there. One JSON line on stdout reports what it cost:
// seconds to start Pyodide and to run the file, the WebAssembly heap and the Node process's RSS.
import fs from "node:fs";
import path from "node:path";
import { loadPyodide } from "pyodide";

const [wheels, work, script] = process.argv.slice(2);
const started = performance.now();
const pyodide = await loadPyodide({ stdout: (line) => console.error(line), stderr: (line) => console.error(line) });
const site = pyodide.runPython("import site; site.getsitepackages()[0]");
for (const name of fs.readdirSync(wheels).filter((n) => n.endsWith(".whl")).sort()) {
  pyodide.unpackArchive(new Uint8Array(fs.readFileSync(path.join(wheels, name))), "wheel", { extractDir: site });
}
pyodide.FS.mkdirTree("/work");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: path.resolve(work) }, "/work");
const loaded = performance.now();
pyodide.runPython("import os, sys; os.chdir('/work'); sys.path.insert(0, '/work')");
try {
  pyodide.runPython(fs.readFileSync(script, "utf8"), { filename: path.basename(script) });
} catch (error) {
  // Only the Python traceback: the default report prints Pyodide's minified source line.
  console.error(error.message);
  process.exit(1);
}
const ran = performance.now();
console.log(JSON.stringify({
  start_seconds: (loaded - started) / 1000,
  run_seconds: (ran - loaded) / 1000,
  wasm_heap_bytes: pyodide._module.HEAP8.length,
  node_rss_bytes: process.memoryUsage().rss,
  pyodide_version: pyodide.version,
}));
