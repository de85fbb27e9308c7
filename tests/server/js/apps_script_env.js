// A small in-memory stand-in for the Google Apps Script services that xlwings.js and sheetbill's
// bound script use (SpreadsheetApp, Session, UrlFetchApp, PropertiesService, Utilities), so the
// real xlwings Apps Script client can run under Node against a real sheetbill server.
//
// Faithful where it matters for the test:
// * Range.setValues enters values as Google Sheets does for USER_ENTERED input: a leading
//   apostrophe makes text (and is not stored), "=..." becomes a formula, numeric text a number,
//   ISO dates a date, TRUE/FALSE a boolean. A careless server would fail the test here.
// * Date cells hold instants at the wall time in the spreadsheet's time zone, and getValues returns
//   Date objects, so xlwings.js's own time-zone juggling runs for real (run Node with a TZ that
//   differs from the spreadsheet's to see it keep the wall time).
// * UrlFetchApp.fetch is synchronous, as in Apps Script: each call runs http_fetch.js in a child
//   process and waits for it. Only loopback URLs are fetched.
//
// Usage: node apps_script_env.js STATE_IN.json STATE_OUT.json FUNCTION [FUNCTION ...]
// STATE_IN: {"timeZone", "properties", "activeSheet", "scripts": [paths], "sheets": [{"name", "values"}]}
// Cells in and out: number | string | boolean | null | {"date": "YYYY-MM-DD"} |
//                   {"datetime": "YYYY-MM-DDTHH:MM:SS"} | {"formula": "=..."} (out only).
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { execFileSync } = require("child_process");

// --- time zones ------------------------------------------------------------------------------------

function tzParts(ms, tz) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const p = Object.fromEntries(format.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return [+p.year, +p.month, +p.day, +p.hour, +p.minute, +p.second];
}

// Dates handed to the scripts must come from the scripts' own realm (the vm context), or
// `value instanceof Date` in xlwings.js would be false and the dates would go out unconverted.
let RealmDate = Date;
const isDate = (v) => Object.prototype.toString.call(v) === "[object Date]";

function wallToDate(parts, tz) {
  const [y, mo, d, h = 0, mi = 0, s = 0] = parts;
  const target = Date.UTC(y, mo - 1, d, h, mi, s);
  let guess = target;
  for (let i = 0; i < 4; i++) {
    const seen = tzParts(guess, tz);
    guess += target - Date.UTC(seen[0], seen[1] - 1, seen[2], seen[3], seen[4], seen[5]);
  }
  return new RealmDate(guess);
}

function dateToCell(date, tz) {
  const [y, mo, d, h, mi, s] = tzParts(date.getTime(), tz);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  const day = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  return h || mi || s ? { datetime: `${day}T${pad(h)}:${pad(mi)}:${pad(s)}` } : { date: day };
}

// --- the spreadsheet -------------------------------------------------------------------------------

class Cell {
  constructor() {
    this.value = "";
    this.formula = null;
    this.format = null;
    this.background = "#ffffff";
    this.bold = false;
  }
}

class Sheet {
  constructor(book, name) {
    this.book = book;
    this.name = name;
    this.cells = new Map();
    this.frozenRows = 0;
  }
  cell(r, c, create) {
    const key = r + "," + c;
    let cell = this.cells.get(key);
    if (!cell && create) {
      cell = new Cell();
      this.cells.set(key, cell);
    }
    return cell;
  }
  hasContent(cell) {
    return cell.formula !== null || cell.value !== "";
  }
  getName() { return this.name; }
  setName(name) { this.name = name; return this; }
  getParent() { return this.book; }
  getIndex() { return this.book.sheets.indexOf(this) + 1; }
  getLastRow() {
    let last = 0;
    for (const [key, cell] of this.cells) if (this.hasContent(cell)) last = Math.max(last, +key.split(",")[0]);
    return last;
  }
  getLastColumn() {
    let last = 0;
    for (const [key, cell] of this.cells) if (this.hasContent(cell)) last = Math.max(last, +key.split(",")[1]);
    return last;
  }
  getRange(row, column, numRows, numColumns) {
    if (typeof row === "string") {
      const m = /^([A-Z]+)(\d+)$/.exec(row);
      let col = 0;
      for (const ch of m[1]) col = col * 26 + ch.charCodeAt(0) - 64;
      return new Range(this, +m[2], col, 1, 1);
    }
    return new Range(this, row, column, numRows === undefined ? 1 : numRows, numColumns === undefined ? 1 : numColumns);
  }
  getImages() { return []; }
  clear() { this.cells.clear(); return this; }
  clearContents() { for (const cell of this.cells.values()) { cell.value = ""; cell.formula = null; } return this; }
  clearFormats() { for (const cell of this.cells.values()) { cell.format = null; cell.background = "#ffffff"; cell.bold = false; } return this; }
  activate() { this.book.active = this; return this; }
  setFrozenRows(n) { this.frozenRows = n; }
  getFrozenRows() { return this.frozenRows; }
  autoResizeColumns() { return this; }
  autoResizeRows() { return this; }
}

class Range {
  constructor(sheet, row, column, numRows, numColumns) {
    if (row < 1 || column < 1 || numRows < 1 || numColumns < 1) {
      throw new Error(`Exception: The coordinates of the range are outside the dimensions of the sheet.`);
    }
    Object.assign(this, { sheet, row, column, numRows, numColumns });
  }
  forEach(fn) {
    for (let i = 0; i < this.numRows; i++) for (let j = 0; j < this.numColumns; j++) fn(this.row + i, this.column + j, i, j);
  }
  getSheet() { return this.sheet; }
  getA1Notation() {
    const name = (c) => { let s = ""; while (c > 0) { const m = (c - 1) % 26; s = String.fromCharCode(65 + m) + s; c = (c - 1 - m) / 26; } return s; };
    const first = name(this.column) + this.row;
    return this.numRows === 1 && this.numColumns === 1 ? first : `${first}:${name(this.column + this.numColumns - 1)}${this.row + this.numRows - 1}`;
  }
  getValues() {
    const out = [];
    for (let i = 0; i < this.numRows; i++) {
      const row = [];
      for (let j = 0; j < this.numColumns; j++) {
        const cell = this.sheet.cell(this.row + i, this.column + j, false);
        row.push(!cell ? "" : cell.formula !== null ? "#FORMULA" : isDate(cell.value) ? new RealmDate(cell.value.getTime()) : cell.value);
      }
      out.push(row);
    }
    return out;
  }
  setValues(values) {
    if (values.length !== this.numRows) {
      throw new Error(`Exception: The number of rows in the data does not match the number of rows in the range. The data has ${values.length} but the range has ${this.numRows}.`);
    }
    values.forEach((row) => {
      if (row.length !== this.numColumns) {
        throw new Error(`Exception: The number of columns in the data does not match the number of columns in the range. The data has ${row.length} but the range has ${this.numColumns}.`);
      }
    });
    this.forEach((r, c, i, j) => enterValue(this.sheet.cell(r, c, true), values[i][j], this.sheet.book.timeZone));
    return this;
  }
  clearContent() { this.forEach((r, c) => { const cell = this.sheet.cell(r, c, false); if (cell) { cell.value = ""; cell.formula = null; } }); return this; }
  clearFormat() { this.forEach((r, c) => { const cell = this.sheet.cell(r, c, false); if (cell) { cell.format = null; cell.background = "#ffffff"; cell.bold = false; } }); return this; }
  clear() { this.forEach((r, c) => this.sheet.cells.delete(r + "," + c)); return this; }
  setNumberFormat(format) { this.forEach((r, c) => (this.sheet.cell(r, c, true).format = format)); return this; }
  setBackground(color) { this.forEach((r, c) => (this.sheet.cell(r, c, true).background = String(color).toLowerCase())); return this; }
  getBackground() { const cell = this.sheet.cell(this.row, this.column, false); return cell ? cell.background : "#ffffff"; }
  setFontWeight(weight) { this.forEach((r, c) => (this.sheet.cell(r, c, true).bold = weight === "bold")); return this; }
  getDataRegion() { return this.sheet.getRange(1, 1, Math.max(1, this.sheet.getLastRow()), Math.max(1, this.sheet.getLastColumn())); }
  activate() { this.sheet.activate(); return this; }
}

// Google Sheets' parsing of entered values (USER_ENTERED), as far as the test needs it.
function enterValue(cell, value, tz) {
  cell.formula = null;
  if (value === null || value === undefined || value === "") { cell.value = ""; return; }
  if (isDate(value) || typeof value === "number" || typeof value === "boolean") { cell.value = value; return; }
  const text = String(value);
  let m;
  if (text.startsWith("'")) cell.value = text.slice(1);
  else if (text.startsWith("=")) { cell.formula = text; cell.value = ""; }
  else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) cell.value = Number(text);
  else if (/^(true|false)$/i.test(text.trim())) cell.value = /^true$/i.test(text.trim());
  else if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim()))) {
    cell.value = wallToDate(m.slice(1).filter((x) => x !== undefined).map(Number), tz);
  } else if ((m = /^(\d{1,2})-(\d{1,2})-(\d{1,4})$/.exec(text.trim()))) {
    cell.value = wallToDate([+m[3], +m[1], +m[2]], tz); // "1-2-3" is a date to Sheets (en-US)
  } else cell.value = text;
}

class Spreadsheet {
  constructor(state) {
    this.timeZone = state.timeZone || "Etc/UTC";
    this.name = state.name || "Office workbook";
    this.sheets = [];
    for (const s of state.sheets) {
      const sheet = new Sheet(this, s.name);
      s.values.forEach((row, i) =>
        row.forEach((v, j) => {
          if (v === null || v === "") return;
          const cell = sheet.cell(i + 1, j + 1, true);
          if (v && typeof v === "object" && "date" in v) cell.value = wallToDate(v.date.split("-").map(Number), this.timeZone);
          else if (v && typeof v === "object" && "datetime" in v) cell.value = wallToDate(v.datetime.split(/[-T:]/).map(Number), this.timeZone);
          else cell.value = v; // typed text stays text
        })
      );
      this.sheets.push(sheet);
    }
    this.active = this.sheets[state.activeSheet || 0];
  }
  getName() { return this.name; }
  getSheets() { return this.sheets.slice(); }
  getSheetByName(name) { return this.sheets.find((s) => s.name === name) || null; }
  getActiveSheet() { return this.active; }
  getActiveRange() { return this.active.getRange(1, 1); }
  getNamedRanges() { return []; }
  getSpreadsheetTimeZone() { return this.timeZone; }
  insertSheet(name, index) {
    if (this.getSheetByName(name)) throw new Error(`Exception: A sheet with the name "${name}" already exists.`);
    const sheet = new Sheet(this, name);
    this.sheets.splice(index === undefined ? this.sheets.length : index, 0, sheet);
    this.active = sheet;
    return sheet;
  }
  deleteSheet(sheet) { this.sheets.splice(this.sheets.indexOf(sheet), 1); }
  dump() {
    return this.sheets.map((sheet) => {
      const rows = sheet.getLastRow(), cols = sheet.getLastColumn();
      const values = [], formats = {}, backgrounds = {}, bold = [];
      for (let r = 1; r <= rows; r++) {
        const row = [];
        for (let c = 1; c <= cols; c++) {
          const cell = sheet.cell(r, c, false);
          row.push(!cell || !sheet.hasContent(cell) ? null : cell.formula !== null ? { formula: cell.formula }
            : isDate(cell.value) ? dateToCell(cell.value, this.timeZone) : cell.value);
        }
        values.push(row);
      }
      for (const [key, cell] of sheet.cells) {
        if (cell.format) formats[key] = cell.format;
        if (cell.background !== "#ffffff") backgrounds[key] = cell.background;
        if (cell.bold) bold.push(key);
      }
      return { name: sheet.name, values, formats, backgrounds, bold, frozenRows: sheet.frozenRows };
    });
  }
}

// --- the services ------------------------------------------------------------------------------------

function services(state, log) {
  const book = new Spreadsheet(state);
  const ButtonSet = { OK: "OK", OK_CANCEL: "OK_CANCEL", YES_NO: "YES_NO", YES_NO_CANCEL: "YES_NO_CANCEL" };
  const Button = { OK: "ok", CANCEL: "cancel", YES: "yes", NO: "no", CLOSE: "close" };
  const ui = {
    ButtonSet, Button,
    alert(a, b, c) {
      // alert(prompt) | alert(prompt, buttons) | alert(title, prompt, buttons)
      const entry = typeof b === "string" && !(b in ButtonSet) ? { title: a, prompt: b, buttons: c } : { title: "", prompt: a, buttons: b };
      log.alerts.push(entry);
      return Button.OK;
    },
    createMenu(name) {
      const menu = { name, items: [] };
      log.menus.push(menu);
      const builder = {
        addItem(caption, fn) { menu.items.push([caption, fn]); return builder; },
        addSeparator() { return builder; },
        addToUi() {},
      };
      return builder;
    },
  };
  const props = Object.assign({}, state.properties || {});
  return {
    book,
    SpreadsheetApp: {
      getActive: () => book, getActiveSpreadsheet: () => book, getUi: () => ui,
      flush() { log.flushes++; },
      newRichTextValue() { throw new Error("not in the stand-in: rich text"); },
      Dimension: { ROWS: "ROWS", COLUMNS: "COLUMNS" },
    },
    Session: { getActiveUser: () => ({ getEmail: () => "clerk@example.org" }) },
    PropertiesService: {
      getScriptProperties: () => ({ getProperty: (k) => (k in props ? props[k] : null), setProperty: (k, v) => { props[k] = String(v); } }),
    },
    UrlFetchApp: {
      fetch(url, options) {
        const started = Date.now();
        const headers = Object.assign({ "Content-Type": options.contentType || "application/json" }, options.headers || {});
        const out = execFileSync(process.execPath, [path.join(__dirname, "http_fetch.js")], {
          input: JSON.stringify({ url, method: (options.method || "get").toUpperCase(), headers, body: options.payload || "" }),
          maxBuffer: 512 * 1024 * 1024,
        });
        const response = JSON.parse(out.toString("utf8"));
        log.requests.push({ url, status: response.status, ms: Date.now() - started, authorization: headers.Authorization || null });
        if (response.status === 0) throw new Error("Exception: Address unavailable: " + url);
        if (response.status >= 400 && !options.muteHttpExceptions) throw new Error(`Exception: Request failed for ${url} returned code ${response.status}`);
        return { getResponseCode: () => response.status, getContentText: () => response.body };
      },
    },
    Utilities: {
      newBlob() { throw new Error("not in the stand-in: blobs"); },
      base64Decode() { throw new Error("not in the stand-in: base64"); },
    },
    Logger: { log: (...a) => log.console.push(a.join(" ")) },
    console: { log: (...a) => log.console.push(a.join(" ")), error: (...a) => log.console.push(a.join(" ")) },
  };
}

function run(state, functions) {
  const log = { alerts: [], menus: [], requests: [], console: [], flushes: 0, errors: [] };
  const context = vm.createContext({});
  RealmDate = vm.runInContext("Date", context);
  const env = services(state, log);
  for (const [key, value] of Object.entries(env)) if (key !== "book") context[key] = value;
  for (const script of state.scripts) {
    vm.runInContext(fs.readFileSync(script, "utf8"), context, { filename: path.basename(script) });
  }
  for (const name of functions) {
    try {
      if (typeof context[name] !== "function") throw new Error(`no function ${name}`);
      context[name]();
    } catch (err) {
      log.errors.push(String(err && err.message !== undefined ? err.message : err));
    }
  }
  return { sheets: env.book.dump(), log };
}

if (require.main === module) {
  const [stateIn, stateOut, ...functions] = process.argv.slice(2);
  const state = JSON.parse(fs.readFileSync(stateIn, "utf8"));
  fs.writeFileSync(stateOut, JSON.stringify(run(state, functions)));
}

module.exports = { run };
