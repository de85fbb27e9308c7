/**
 * sheetbill buttons for Google Sheets.
 *
 * This bound script adds a "sheetbill" menu and five functions that drawings can be assigned to
 * (Insert > Drawing, then "Assign script"): sheetbillBill, sheetbillOverdue, sheetbillCheck,
 * sheetbillDocuments, sheetbillStatement. Each sends the sheets a billing run reads to a sheetbill
 * server (`sheetbill serve`) through xlwings' Apps Script client, `runPython`, and the client applies the
 * server's answer: the Invoices, Invoice Lines, Problems, ... sheets and a message box.
 *
 * Requirements, set up once per spreadsheet (docs/apps-script.md walks through it):
 * - xlwings.js, the xlwings Apps Script client, as a second file of this project. It is not part of
 *   sheetbill: take it from the xlwings package in the version the server supports (pip install
 *   xlwings==0.37.8, then site-packages/xlwings/js/xlwings.js, or `xlwings copy gs`, which puts
 *   it on the clipboard).
 * - Script properties (Project Settings > Script properties):
 *     SHEETBILL_URL    the server's address, e.g. https://billing.example.org
 *     SHEETBILL_TOKEN  an API token from the server's SHEETBILL_API_TOKENS
 *
 * Only the sheets a run reads are sent (the `include` list): the input sheets, sheetbill's own
 * history sheets and their continuations ("Invoice Lines 2"). Sheet names must not contain commas.
 */

/** The sheets a run reads: the workbook contract's input and history sheets (sheetbill.contract). */
var SHEETBILL_SHEETS = [
  "Settings", "Customers", "Payers", "Coverage", "Services", "Payer Codes", "Charges", "Payments",
  "Payment Plans", "Contacts", "Base Rates", "Mandates",
  "Invoices", "Invoice Lines", "Reminders", "Collections",
  "Bank Payments", "Bank Review", "Debits",
];
var SHEETBILL_HISTORY = ["Invoices", "Invoice Lines", "Reminders", "Collections"];
/** The header fill the server gives the sheets it writes; headers with it are made bold and frozen. */
var SHEETBILL_HEADER_COLOR = "#d9e1f2";

function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu("sheetbill")
    .addItem("Bill", "sheetbillBill")
    .addItem("Update overdue", "sheetbillOverdue")
    .addItem("Check workbook", "sheetbillCheck")
    .addItem("Make documents", "sheetbillDocuments")
    .addItem("Statement", "sheetbillStatement")
    .addToUi();
}

function sheetbillBill() {
  sheetbillPress_("bill");
}

function sheetbillOverdue() {
  sheetbillPress_("overdue");
}

function sheetbillCheck() {
  sheetbillPress_("check");
}

function sheetbillDocuments() {
  sheetbillPress_("documents");
}

function sheetbillStatement() {
  sheetbillPress_("statement");
}

/** Matching key of a sheet name, as sheetbill matches them: case, spaces, "_" and "-" ignored. */
function sheetbillKey_(name) {
  return String(name).replace(/[\s_\-]+/g, "").toLowerCase();
}

/** The names of this spreadsheet's sheets that a run reads. */
function sheetbillInclude_() {
  var wanted = {};
  SHEETBILL_SHEETS.forEach(function (name) { wanted[sheetbillKey_(name)] = true; });
  var history = {};
  SHEETBILL_HISTORY.forEach(function (name) { history[sheetbillKey_(name)] = true; });
  return SpreadsheetApp.getActive().getSheets().map(function (sheet) { return sheet.getName(); })
    .filter(function (name) {
      if (wanted[sheetbillKey_(name)]) return true;
      var continuation = /^(.*?)\s*\d+$/.exec(name.trim());
      return continuation !== null && history[sheetbillKey_(continuation[1])] === true;
    });
}

function sheetbillPress_(button) {
  var properties = PropertiesService.getScriptProperties();
  var url = properties.getProperty("SHEETBILL_URL");
  var token = properties.getProperty("SHEETBILL_TOKEN");
  if (!url || !token) {
    SpreadsheetApp.getUi().alert(
      "sheetbill is not set up",
      "Set the script properties SHEETBILL_URL and SHEETBILL_TOKEN (Extensions > Apps Script > " +
        "Project Settings > Script properties).",
      SpreadsheetApp.getUi().ButtonSet.OK
    );
    return;
  }
  if (typeof runPython !== "function") {
    SpreadsheetApp.getUi().alert(
      "xlwings.js is missing",
      "Add the xlwings Apps Script client (xlwings.js) to this script project; see docs/apps-script.md.",
      SpreadsheetApp.getUi().ButtonSet.OK
    );
    return;
  }
  runPython(url.replace(/\/+$/, "") + "/xlwings/custom-scripts-call/" + button, {
    auth: token,
    include: sheetbillInclude_().join(","),
  });
  sheetbillFormatHeaders_();
}

/** Bold, frozen header rows on the sheets the server wrote (their first cell has the header fill). */
function sheetbillFormatHeaders_() {
  SpreadsheetApp.getActive().getSheets().forEach(function (sheet) {
    var width = sheet.getLastColumn();
    if (width < 1 || String(sheet.getRange(1, 1).getBackground()).toLowerCase() !== SHEETBILL_HEADER_COLOR) return;
    sheet.getRange(1, 1, 1, width).setFontWeight("bold");
    sheet.setFrozenRows(1);
  });
}
