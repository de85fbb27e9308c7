"""The plugin system: the manager factory, the typed facade, every hook, broken and duplicate
plugins, installed plugins (entry points), the example package and the helpers for plugin authors.

Each hook of ``sheetbill/plugins/hookspecs.py`` has a test here named after it;
``tests/test_docs.py`` checks that this stays so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill import __version__
from sheetbill.plugins import hookimpl
from sheetbill.plugins.manager import (
    BUILTIN_PLUGINS,
    ENTRY_POINT_GROUP,
    PluginError,
    Plugins,
    check_adjudication,
    get_plugin_manager,
)
from sheetbill.plugins.reference import hook_names
from sheetbill.plugins.types import Adjudication, BilledCode, ClaimRefused
from sheetbill.problems import ConfigurationError
from sheetbill.testing import assert_valid_adjudication, make_claim, make_plugins, output_rows, run_tables

D = Decimal
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sheetbill-payer-example"

CUSTOMERS = [{"Customer ID": "K1", "Name": "Ann"}, {"Customer ID": "K2", "Name": "Bob"}]
SERVICES = [{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"},
            {"Service Code": "MRI", "Description": "MRI", "Price": "1500.00"}]


def tables(plugin: str, *, secondary_of_k1: bool = False) -> dict:
    """K1 is covered by payer PLG (handled by ``plugin``), K2 by the standard payer; one office visit each."""
    payers = [{"Payer ID": "PLG", "Name": "Plugin Payer", "Plugin": plugin},
              {"Payer ID": "INS", "Name": "Acme Health"}]
    coverage = [{"Customer ID": "K2", "Payer ID": "INS", "Covered Percent": 80}]
    if secondary_of_k1:
        coverage += [{"Customer ID": "K1", "Payer ID": "INS", "Priority": 1, "Covered Percent": 80},
                     {"Customer ID": "K1", "Payer ID": "PLG", "Priority": 2}]
    else:
        coverage += [{"Customer ID": "K1", "Payer ID": "PLG"}]
    return {
        "customers": CUSTOMERS, "payers": payers, "coverage": coverage, "services": SERVICES,
        "charges": [{"Charge ID": "C1", "Date": "2026-02-02", "Customer ID": "K1", "Service Code": "OV"},
                    {"Charge ID": "C2", "Date": "2026-02-02", "Customer ID": "K2", "Service Code": "OV"}],
    }


def line_amounts(result) -> dict[str, list[Decimal]]:
    """Amounts of the invoice lines by Charge ID."""
    found: dict[str, list[Decimal]] = {}
    for row in output_rows(result, "Invoice Lines"):
        found.setdefault(row["Charge ID"], []).append(row["Amount"])
    return found


class Half:
    """A payer that pays half of the allowed amount."""

    @hookimpl
    def sheetbill_payer_names(self):
        return ["half"]

    @hookimpl
    def sheetbill_adjudicate(self, claim):
        base = claim.allowed if claim.is_secondary else claim.charge_amount
        half = (base / 2).quantize(D("0.01"))
        return Adjudication(half, base - half, claim.charge_amount - base, "half")


class Answering:
    """A payer plugin whose ``sheetbill_adjudicate`` answers with ``answer(claim)`` or raises it."""

    def __init__(self, answer, name: str = "broken"):
        self.answer, self.name = answer, name

    @hookimpl
    def sheetbill_payer_names(self):
        return [self.name]

    @hookimpl
    def sheetbill_adjudicate(self, claim):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer(claim)


# --- the manager factory -------------------------------------------------------------------------


def test_builtin_payers_are_registered_like_installed_plugins():
    pm = get_plugin_manager(entry_points=False)
    assert [name for name, _ in pm.list_name_plugin()] == list(BUILTIN_PLUGINS)
    assert Plugins(pm).payer_plugin_names() == ["employer_budget", "fee_schedule", "goae", "standard"]


def test_each_call_gives_a_fresh_manager():
    with_half = get_plugin_manager([Half()], entry_points=False)
    plain = get_plugin_manager(entry_points=False)
    assert Plugins(with_half).has_payer_plugin("half")
    assert not Plugins(plain).has_payer_plugin("half")


def test_blank_plugin_cell_means_standard_and_names_ignore_case_and_spaces():
    plugins = make_plugins()
    assert plugins.has_payer_plugin(None) and plugins.has_payer_plugin("  ")
    assert plugins.plugin_label(" Fee_Schedule ") == "sheetbill.payers.fee_schedule"
    assert plugins.plugin_label(None) == "sheetbill.payers.standard"


def test_registering_the_same_plugin_twice_fails_at_start():
    half = Half()
    with pytest.raises(ConfigurationError, match="registered twice"):
        get_plugin_manager([half, half], entry_points=False)


def test_a_hook_with_a_parameter_the_spec_lacks_fails_at_start():
    class Wrong:
        @hookimpl
        def sheetbill_adjudicate(self, claim, discount):
            raise AssertionError("never called")

    with pytest.raises(ConfigurationError, match="Wrong"):
        get_plugin_manager([Wrong()], entry_points=False)


def test_a_misspelled_hook_fails_at_start():
    class Typo:
        @hookimpl
        def sheetbill_adjudicat(self, claim):
            raise AssertionError("never called")

    with pytest.raises(ConfigurationError, match="sheetbill_adjudicat"):
        get_plugin_manager([Typo()], entry_points=False)


def test_every_hookspec_documents_its_parameters_and_return():
    from sheetbill.plugins import hookspecs

    for name in hook_names():
        function = getattr(hookspecs, name)
        doc = function.__doc__
        assert ":return:" in doc, name
        for parameter in function.__code__.co_varnames[:function.__code__.co_argcount]:
            assert f":param {parameter}:" in doc, (name, parameter)
        assert "Example" in doc, name


# --- sheetbill_payer_names --------------------------------------------------------------------------


def test_sheetbill_payer_names_duplicate_fails_at_start_with_a_clear_message():
    class Impostor:
        @hookimpl
        def sheetbill_payer_names(self):
            return ["Fee_Schedule"]

    with pytest.raises(ConfigurationError) as info:
        make_plugins(Impostor())
    message = str(info.value)
    assert "duplicate payer plugin name 'Fee_Schedule'" in message
    assert "sheetbill.payers.fee_schedule" in message and "Impostor" in message


def test_sheetbill_payer_names_duplicate_between_two_extra_plugins():
    with pytest.raises(ConfigurationError, match="duplicate payer plugin name 'half': claimed by Half and Half#2"):
        make_plugins(Half(), Half())


def test_sheetbill_payer_names_that_raise_or_answer_nonsense_fail_at_start():
    class Raises:
        @hookimpl
        def sheetbill_payer_names(self):
            raise RuntimeError("no config")

    class Text:
        @hookimpl
        def sheetbill_payer_names(self):
            return "acme"

    with pytest.raises(ConfigurationError, match="plugin Raises raised in sheetbill_payer_names"):
        make_plugins(Raises())
    with pytest.raises(ConfigurationError, match="not a list of names"):
        make_plugins(Text())


def test_sheetbill_payer_names_unknown_plugin_in_the_payers_sheet_holds_its_charges():
    result = run_tables(**tables("acme"))
    assert set(line_amounts(result)) == {"C2"}
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert "C1" in problem.message and "no installed plugin handles 'acme'" in problem.message


# --- sheetbill_charge_amount --------------------------------------------------------------------------


class Priced(Half):
    """The half payer with a fee schedule of its own: ``price(charge)`` or raises it."""

    def __init__(self, price):
        self.price = price

    @hookimpl
    def sheetbill_charge_amount(self, charge, settings):
        if isinstance(self.price, Exception):
            raise self.price
        return self.price(charge)


def test_sheetbill_charge_amount_replaces_price_times_quantity_for_the_primary_payer():
    result = run_tables(plugins=make_plugins(Priced(lambda charge: D("150.00"))), **tables("half"))
    assert line_amounts(result) == {"C1": [D("75.00"), D("75.00")], "C2": [D("160.00"), D("40.00")]}
    assert {row["Charge ID"]: row["Charge Amount"] for row in output_rows(result, "Invoice Lines")} == {
        "C1": D("150.00"), "C2": D("200.00")}
    # None keeps the price; as a secondary payer the plugin is not asked (the primary's schedule counts)
    assert line_amounts(run_tables(plugins=make_plugins(Priced(lambda charge: None)), **tables("half")))["C1"] == [
        D("100.00"), D("100.00")]
    secondary = run_tables(plugins=make_plugins(Priced(lambda charge: D("1.00"))), **tables("half",
                                                                                             secondary_of_k1=True))
    assert sum(line_amounts(secondary)["C1"]) == D("200.00") - D("0.00")


@pytest.mark.parametrize(("price", "code", "column", "words"), [
    (lambda charge: D("1.005"), "plugin-error", "Service Code", "not an amount rounded to the minor unit of EUR"),
    (lambda charge: -D("1.00"), "plugin-error", "Service Code", "not an amount rounded"),
    (lambda charge: 150.0, "plugin-error", "Service Code", "returned 150.0 from sheetbill_charge_amount"),
    (RuntimeError("no tariff"), "plugin-error", "Service Code", "raised in sheetbill_charge_amount"),
    (ClaimRefused("factor 3.0 needs a Justification", "Justification"), "claim-refused", "Justification",
     "charge C1 held: factor 3.0 needs a Justification"),
])
def test_sheetbill_charge_amount_nonsense_or_a_refusal_holds_the_charge(price, code, column, words):
    result = run_tables(plugins=make_plugins(Priced(price)), **tables("half"))
    assert set(line_amounts(result)) == {"C2"}
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert (problem.code, problem.column, problem.row) == (code, column, 2) and words in problem.message


# --- sheetbill_adjudicate -----------------------------------------------------------------------------


def test_sheetbill_adjudicate_of_an_extra_plugin_is_used(sheetbill_plugins):
    result = run_tables(plugins=sheetbill_plugins(Half()), **tables("half"))
    assert line_amounts(result) == {"C1": [D("100.00"), D("100.00")], "C2": [D("160.00"), D("40.00")]}
    assert result.exit_code == 0


def _not_adding_up(claim):
    return Adjudication(claim.charge_amount, D("1.00"))


@pytest.mark.parametrize(("answer", "words"), [
    (RuntimeError("tariff table missing"), "raised in sheetbill_adjudicate: RuntimeError: tariff table missing"),
    (lambda claim: None, "returned None, not an Adjudication"),
    (lambda claim: {"payer_share": claim.charge_amount}, "not an Adjudication"),
    (lambda claim: Adjudication(200.0, 0.0), "payer_share=200.0, not a Decimal amount"),
    (_not_adding_up, "which does not add up"),
    (lambda claim: Adjudication(D("250.00"), D("-50.00")), "negative customer_share"),
    (lambda claim: Adjudication(D("199.995"), D("0.005")), "not rounded to the minor unit of EUR"),
    (lambda claim: Adjudication(D("NaN"), D("0")), "not a Decimal amount"),
    (lambda claim: Adjudication(D("100.00"), D("100.00"), deductible=D("150.00")), "counted deductible"),
    (lambda claim: Adjudication(D("100.00"), D("100.00"), reason=None), "reason=None"),
    (lambda claim: Adjudication(D("100.00"), D("100.00"), advice="call them"), "not a tuple of texts"),
])
def test_sheetbill_adjudicate_broken_plugin_holds_the_charge_and_the_run_goes_on(answer, words):
    result = run_tables(plugins=[Answering(answer)], **tables("broken"))
    assert set(line_amounts(result)) == {"C2"}  # C1 billed to nobody; C2 billed as usual
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert problem.message.startswith("charge C1 held: plugin Answering")
    assert words in problem.message
    assert (problem.sheet, problem.row) == ("Charges", 2)
    assert result.exit_code == 1


def test_sheetbill_adjudicate_broken_secondary_bills_nothing_of_the_charge():
    result = run_tables(plugins=[Answering(ZeroDivisionError("oops"))], **tables("broken", secondary_of_k1=True))
    assert set(line_amounts(result)) == {"C2"}  # not even the primary's share of C1
    assert any(p.code == "plugin-error" and "Answering" in p.message for p in result.problems)


def test_sheetbill_adjudicate_missing_is_a_plugin_error():
    class NamesOnly:
        @hookimpl
        def sheetbill_payer_names(self):
            return ["names_only"]

    result = run_tables(plugins=[NamesOnly()], **tables("names_only"))
    assert set(line_amounts(result)) == {"C2"}
    assert any(p.code == "plugin-error" and "sheetbill_adjudicate" in p.message for p in result.problems)


def test_check_adjudication_accepts_a_valid_answer():
    claim = make_claim("200.00")
    assert check_adjudication(claim, Adjudication(D("150.00"), D("50.00"))) is None
    assert check_adjudication(claim, Adjudication(D("150.00"), D("50.00"), out_of_pocket=D("60.00"))) is not None


# --- sheetbill_map_code -------------------------------------------------------------------------------


class Coded(Half):
    """Half, billed under codes of its own."""

    def __init__(self, answer=None):
        self.answer = answer

    @hookimpl
    def sheetbill_map_code(self, service):
        return self.answer if self.answer is not None else BilledCode(f"H-{service.service_code}", "HALF")


def test_sheetbill_map_code_gives_the_billed_code_on_payer_lines():
    result = run_tables(plugins=[Coded()], **tables("half"))
    codes = {(row["Charge ID"], row["Billed Code"]) for row in output_rows(result, "Invoice Lines")}
    assert codes == {("C1", "H-OV"), ("C1", "OV"), ("C2", "OV")}  # the customer's line keeps the service code


def test_sheetbill_map_code_wrong_type_is_a_problem_naming_the_plugin():
    result = run_tables(plugins=[Coded(answer="H-OV")], **tables("half"))
    assert set(line_amounts(result)) == {"C2"}
    assert any("plugin Coded returned 'H-OV' from sheetbill_map_code" in p.message for p in result.problems)


def test_sheetbill_map_code_left_out_gets_the_standard_rule():
    plugins = make_plugins(Half())
    claim = make_claim(plugin="half", code_system="CPT")
    assert plugins.map_code("half", payer=claim.payer, service=claim.service, payer_code=None) is None
    claim = make_claim(plugin="half", payer_code="99213")
    billed = plugins.map_code("half", payer=claim.payer, service=claim.service, payer_code=claim.payer_code)
    assert billed == BilledCode("99213", "")


# --- sheetbill_needs_authorization --------------------------------------------------------------------


class Strict(Half):
    """Half, with prior authorization for services of 1,000.00 or more."""

    def __init__(self, answer=None):
        self.answer = answer

    @hookimpl
    def sheetbill_needs_authorization(self, service):
        return self.answer if self.answer is not None else service.price >= 1000


def test_sheetbill_needs_authorization_holds_then_the_number_releases():
    base = tables("half")
    base["charges"] = [{"Charge ID": "C1", "Date": "2026-02-02", "Customer ID": "K1", "Service Code": "MRI"},
                       {"Charge ID": "C2", "Date": "2026-02-02", "Customer ID": "K1", "Service Code": "OV"},
                       {"Charge ID": "C3", "Date": "2026-07-01", "Customer ID": "K1", "Service Code": "MRI"}]
    first = run_tables(plugins=[Strict()], **base)
    assert set(line_amounts(first)) == {"C2"}
    texts = [row["Advice"] for row in output_rows(first, "Advice")]
    assert any(t.startswith("charge C1 (MRI, 2026-02-02) is held: Plugin Payer requires prior authorization")
               for t in texts)
    assert any(t.startswith("ask for authorization before the next MRI on 2026-07-01") for t in texts)
    base["charges"][0]["Authorization No"] = "PA-1"
    second = run_tables(plugins=[Strict()], previous=first, **base)
    assert line_amounts(second)["C1"] == [D("750.00"), D("750.00")]
    assert [inv.amount for inv in second.new_invoices] == [D("750.00"), D("750.00")]


def test_sheetbill_needs_authorization_wrong_type_is_a_problem():
    result = run_tables(plugins=[Strict(answer="yes")], **tables("half"))
    assert set(line_amounts(result)) == {"C2"}
    assert any("returned 'yes' from sheetbill_needs_authorization" in p.message for p in result.problems)


# --- sheetbill_invoice_fields -------------------------------------------------------------------------


class Fielded(Half):
    def __init__(self, answer):
        self.answer = answer

    @hookimpl
    def sheetbill_invoice_fields(self, payer, member_id):
        return self.answer(payer, member_id)


def test_sheetbill_invoice_fields_through_the_facade():
    claim = make_claim(plugin="half")
    good = make_plugins(Fielded(lambda payer, member: {"Payer": payer.name, "Member No": member}))
    assert good.invoice_fields("half", payer=claim.payer, customer_id="K1", member_id="M-7") == {
        "Payer": "Test Payer", "Member No": "M-7"}
    assert make_plugins().invoice_fields(None, payer=claim.payer, customer_id="K1", member_id=None) == {}
    bad = make_plugins(Fielded(lambda payer, member: {"Amount": 12}))
    with pytest.raises(PluginError, match="Fielded.*not a dict of text"):
        bad.invoice_fields("half", payer=claim.payer, customer_id="K1", member_id=None)


# --- describe() and installed plugins (entry points) ------------------------------------------------


def test_describe_lists_builtins_with_sheetbill_version():
    infos = {info.name: info for info in make_plugins(Half()).describe()}
    standard = infos["sheetbill.payers.standard"]
    assert (standard.version, standard.builtin, standard.payer_names, standard.distribution) == (
        __version__, True, ("standard",), "sheetbill")
    assert (infos["Half"].version, infos["Half"].builtin, infos["Half"].payer_names) == ("?", False, ("half",))


def fake_distribution(root: Path, dist: str, version: str, entry_points: dict[str, str],
                      modules: dict[str, str]) -> None:
    """An installed distribution as pip leaves it: a ``.dist-info`` folder plus modules."""
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


PLUGIN_SOURCE = """
    from sheetbill.plugins import hookimpl
    from sheetbill.plugins.types import Adjudication

    @hookimpl
    def sheetbill_payer_names():
        return ["{name}"]

    @hookimpl
    def sheetbill_adjudicate(claim):
        return Adjudication(claim.charge_amount, claim.charge_amount - claim.charge_amount, reason="all")
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on ``sys.path`` to fake installed distributions in."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for module in [m for m in sys.modules if m.startswith("fake_plugin_")]:
        del sys.modules[module]


def test_entry_point_plugin_is_loaded_with_its_distribution_version(site):
    fake_distribution(site, "sheetbill-acme", "3.1.4", {"acme": "fake_plugin_acme"},
                      {"fake_plugin_acme": PLUGIN_SOURCE.format(name="acme")})
    plugins = Plugins(get_plugin_manager())
    info = next(i for i in plugins.describe() if i.name == "acme")
    assert (info.version, info.distribution, info.builtin, info.payer_names) == (
        "3.1.4", "sheetbill-acme", False, ("acme",))
    assert not any(i.name == "acme" for i in make_plugins().describe())  # hermetic without entry points


def test_entry_point_that_cannot_be_imported_fails_at_start_naming_it(site):
    fake_distribution(site, "sheetbill-broken", "0.1", {"broken": "fake_plugin_broken"},
                      {"fake_plugin_broken": "import does_not_exist_anywhere\n"})
    with pytest.raises(ConfigurationError, match=r"installed plugin 'broken' \(sheetbill-broken 0.1\) could not "
                                                 r"be loaded: ModuleNotFoundError"):
        get_plugin_manager()


def test_two_packages_with_one_entry_point_name_fail_at_start(site):
    for dist in ("sheetbill-one", "sheetbill-two"):
        fake_distribution(site, dist, "1.0", {"same": f"fake_plugin_{dist[10:]}"},
                          {f"fake_plugin_{dist[10:]}": PLUGIN_SOURCE.format(name=dist)})
    with pytest.raises(ConfigurationError, match="duplicate sheetbill plugin 'same'"):
        get_plugin_manager()


def test_two_installed_plugins_claiming_one_payer_name_fail_at_start(site):
    fake_distribution(site, "sheetbill-first", "1.0", {"first": "fake_plugin_first"},
                      {"fake_plugin_first": PLUGIN_SOURCE.format(name="capitation")})
    fake_distribution(site, "sheetbill-second", "1.0", {"second": "fake_plugin_second"},
                      {"fake_plugin_second": PLUGIN_SOURCE.format(name="Capitation")})
    with pytest.raises(ConfigurationError, match="duplicate payer plugin name 'Capitation': claimed by first "
                                                 "and second"):
        Plugins()


# --- the example package, installed for real -------------------------------------------------------

RUN_SCRIPT = """
import json
from sheetbill.plugins.manager import Plugins
from sheetbill.testing import output_rows, run_tables

infos = [info.__dict__ | {"payer_names": list(info.payer_names)} for info in Plugins().describe()]
result = run_tables(
    entry_points=True,
    customers=[{"Customer ID": "K1", "Name": "Ann"}],
    payers=[{"Payer ID": "FCC", "Name": "Clinic Network", "Plugin": "flat_copay_clinic"}],
    coverage=[{"Customer ID": "K1", "Payer ID": "FCC", "Member ID": "N-7", "Copay": "15.00"}],
    services=[{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"},
              {"Service Code": "MRI", "Description": "MRI", "Price": "1500.00"}],
    charges=[{"Charge ID": "C1", "Date": "2026-05-04", "Customer ID": "K1", "Service Code": "OV"},
             {"Charge ID": "C2", "Date": "2026-05-04", "Customer ID": "K1", "Service Code": "MRI"}],
)
lines = [[r["Charge ID"], r["Billed Code"], str(r["Amount"]), r["Reason"]]
         for r in output_rows(result, "Invoice Lines")]
advice = [r["Advice"] for r in output_rows(result, "Advice")]
print(json.dumps({"plugins": infos, "lines": lines, "advice": advice}))
"""


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory) -> dict[str, str]:
    """The example package pip-installed (offline, no build isolation) into a folder of its own;
    returns the environment under which Python sees it."""
    work = tmp_path_factory.mktemp("example")
    source = work / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--disable-pip-version-check", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(target)
    return env


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_example_package_installed_through_its_entry_point(installed_example):
    done = run_python(installed_example, "-c", RUN_SCRIPT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [info] = [p for p in report["plugins"] if p["name"] == "flat_copay_clinic"]
    assert (info["version"], info["distribution"], info["builtin"], info["payer_names"]) == (
        "0.2.0", "sheetbill-payer-example", False, ["flat_copay_clinic"])
    # Office visit: flat copay 15.00, the network pays the rest under its own code; the MRI
    # (1,500.00 >= 1,000.00) waits for authorization.
    assert report["lines"] == [["C1", "FCC-OV", "185.00", "primary (flat copay)"],
                               ["C1", "OV", "15.00", "flat copay"]]
    assert any(a.startswith("charge C2 (MRI, 2026-05-04) is held") for a in report["advice"])


def test_example_package_listed_by_sheetbill_plugins(installed_example):
    done = run_python(installed_example, "-m", "sheetbill.cli", "plugins")
    assert done.returncode == 0, done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("flat_copay_clinic")]
    assert "0.2.0" in line and "installed" in line
    builtin = next(ln for ln in done.stdout.splitlines() if ln.startswith("sheetbill.payers.standard"))
    assert __version__ in builtin


def test_example_package_own_tests_pass_with_the_shipped_helpers(installed_example):
    done = run_python(installed_example, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      str(EXAMPLE / "tests"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_contract_runs_over_the_installed_example(installed_example):
    done = run_python(installed_example, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      str(ROOT / "tests" / "test_payer_contract.py"), "-k", "flat_copay_clinic and installed")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


# --- sheetbill.testing --------------------------------------------------------------------------------


def test_testing_module_is_a_light_pytest_plugin():
    from importlib.metadata import entry_points

    assert any(ep.value == "sheetbill.testing" for ep in entry_points(group="pytest11"))
    done = subprocess.run([sys.executable, "-c", "import sys, sheetbill.testing; "
                           "print(sorted(m for m in sys.modules if m.startswith('sheetbill')))"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['sheetbill', 'sheetbill.testing']"


def test_sheetbill_plugins_fixture_gives_fresh_facades(sheetbill_plugins):
    first, second = sheetbill_plugins(Half()), sheetbill_plugins()
    assert isinstance(first, Plugins) and first.pm is not second.pm
    assert first.has_payer_plugin("half") and not second.has_payer_plugin("half")


def test_make_claim_defaults_and_payer_codes():
    claim = make_claim()
    assert (claim.charge_amount, claim.currency, claim.payer_code, claim.is_secondary) == (
        D("100.00"), "EUR", None, False)
    claim = make_claim("10.01", quantity="0.333", allowed_amount="9.00", currency="JPY")
    assert claim.charge_amount == D("3") and claim.payer_code.allowed_amount == D("9.00")


def test_assert_valid_adjudication_explains_what_is_wrong():
    claim = make_claim("100.00")
    assert_valid_adjudication(claim, Adjudication(D("80.00"), D("20.00")))
    with pytest.raises(AssertionError, match=r"charge C1 \(100.00 EUR\).*does not add up"):
        assert_valid_adjudication(claim, Adjudication(D("80.00"), D("10.00")))


def test_run_tables_takes_rows_as_lists_too():
    result = run_tables(
        customers=[["Customer ID", "Name"], ["K1", "Ann"]],
        services=[["Service Code", "Description", "Price"], ["OV", "Office visit", "200.00"]],
        charges=[["Charge ID", "Date", "Customer ID", "Service Code"], ["C1", "2026-02-02", "K1", "OV"]],
        settings={"Invoice Prefix": "T-"},
    )
    assert [inv.invoice_no for inv in result.new_invoices] == ["T-000001"]
