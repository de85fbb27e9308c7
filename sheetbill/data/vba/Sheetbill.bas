Attribute VB_Name = "Sheetbill"
' sheetbill buttons for Excel. The buttons on the Billing sheet run these macros.
'
' With Python on this PC (the default) each macro calls sheetbill through the xlwings add-in:
'     RunPython "import sheetbill.excel; sheetbill.excel.bill()"
' Install once: Python, then in a terminal  pip install "sheetbill[excel]"  and  xlwings addin install
'
' With a sheetbill server instead (no Python on this PC), fill in the cells named SheetbillServerUrl
' and SheetbillServerToken on the Billing sheet: the macros then send the sheets a run needs to
' <url>/xlwings/custom-scripts-call/<button> through the add-in's RunServerPython.
' The add-in is called by name (Application.Run), so this project needs no reference to it and
' opens without a compile error on a PC where the add-in is missing: the macro says what to install.
Option Explicit

Private Const NEEDED_KEYS As String = "|settings|customers|payers|coverage|services|payercodes|charges|payments|paymentplans|contacts|baserates|mandates|invoices|invoicelines|reminders|collections|bankpayments|bankreview|debits|"
Private Const HISTORY_KEYS As String = "|invoices|invoicelines|reminders|collections|"
Private Const STATEMENT_FILTER As String = "Bank statements (*.xml;*.sta;*.mt940;*.txt;*.csv),*.xml;*.sta;*.mt940;*.txt;*.csv,All files (*.*),*.*"
' The longest encoded file list passed to Python: Windows runs RunPython's command through cmd.exe,
' whose command line ends at 8,191 characters, and xlwings adds its own part to it.
Private Const MAX_ENCODED As Long = 6000

Public Sub SheetbillBill()
    SheetbillRun "bill"
End Sub

Public Sub SheetbillOverdue()
    SheetbillRun "overdue"
End Sub

Public Sub SheetbillCheck()
    SheetbillRun "check"
End Sub

Public Sub SheetbillDocuments()
    SheetbillRun "documents"
End Sub

Public Sub SheetbillStatement()
    SheetbillRun "statement"
End Sub

' The "Import bank statement" button: the clerk picks one or more statement files, sheetbill imports them.
' The paths go to Python as hexadecimal digits (SheetbillHex), so no file name can become code or reach
' the shell that RunPython starts, whatever characters it has. Cancel does nothing.
Public Sub SheetbillImportBank()
    Dim picked As Variant, encoded As String, i As Long
    If Trim$(SheetbillSetting("SheetbillServerUrl")) <> "" Then
        MsgBox "Bank statements cannot be sent to a sheetbill server from this button: the xlwings add-in " & _
            "sends only the workbook. Import them with the command line:" & vbCrLf & _
            "    sheetbill import-bank WORKBOOK FILE..." & vbCrLf & "See docs/bank.md.", vbExclamation, "sheetbill"
        Exit Sub
    End If
    picked = Application.GetOpenFilename(STATEMENT_FILTER, 1, "sheetbill: Import bank statement", , True)
    If Not IsArray(picked) Then Exit Sub
    For i = LBound(picked) To UBound(picked)
        If encoded <> "" Then encoded = encoded & "."
        encoded = encoded & SheetbillHex(CStr(picked(i)))
    Next i
    If Len(encoded) > MAX_ENCODED Then
        MsgBox "Too many files or too long file names for one import: pick fewer files at a time.", _
            vbExclamation, "sheetbill"
        Exit Sub
    End If
    On Error GoTo NoAddin
    Application.Run "xlwings.xlam!RunPython", "import sheetbill.excel; sheetbill.excel.import_bank('" & encoded & "')"
    Exit Sub
NoAddin:
    SheetbillNoAddin Err.Description
End Sub

' Text as hexadecimal digits, four per UTF-16 code unit ("a'" -> "00610027"): only 0-9 and A-F remain.
Private Function SheetbillHex(ByVal text As String) As String
    Dim i As Long, result As String
    result = String$(Len(text) * 4, "0")
    For i = 1 To Len(text)
        Mid$(result, i * 4 - 3, 4) = Right$("000" & Hex$(AscW(Mid$(text, i, 1)) And &HFFFF&), 4)
    Next i
    SheetbillHex = result
End Function

Private Sub SheetbillRun(ByVal button As String)
    Dim url As String
    url = Trim$(SheetbillSetting("SheetbillServerUrl"))
    On Error GoTo NoAddin
    If url = "" Then
        Application.Run "xlwings.xlam!RunPython", "import sheetbill.excel; sheetbill.excel." & button & "()"
    Else
        If Right$(url, 1) = "/" Then url = Left$(url, Len(url) - 1)
        Application.Run "xlwings.xlam!RunServerPython", url & "/xlwings/custom-scripts-call/" & button, _
            Trim$(SheetbillSetting("SheetbillServerToken")), "", SheetbillInclude()
        SheetbillFormatHeaders
    End If
    Exit Sub
NoAddin:
    SheetbillNoAddin Err.Description
End Sub

Private Sub SheetbillNoAddin(ByVal reason As String)
    MsgBox "sheetbill could not start: " & reason & vbCrLf & vbCrLf & _
        "Is the xlwings add-in installed? In a terminal run:" & vbCrLf & _
        "    pip install ""sheetbill[excel]""" & vbCrLf & "    xlwings addin install" & vbCrLf & _
        "then restart Excel. See docs/excel.md.", vbCritical, "sheetbill"
End Sub

' The value of a named cell of this workbook, or "" when the name does not exist.
Private Function SheetbillSetting(ByVal cellName As String) As String
    On Error Resume Next
    SheetbillSetting = CStr(ActiveWorkbook.Names(cellName).RefersToRange.Value)
End Function

' A sheet name as sheetbill matches it: case, spaces, "_" and "-" ignored.
Private Function SheetbillKey(ByVal text As String) As String
    SheetbillKey = Replace(Replace(Replace(LCase$(text), " ", ""), "_", ""), "-", "")
End Function

' True for the sheets a run reads: input sheets, history sheets and their continuations ("Invoice Lines 2").
Private Function SheetbillNeeded(ByVal sheetName As String) As Boolean
    Dim key As String, stem As String
    key = SheetbillKey(sheetName)
    If InStr(NEEDED_KEYS, "|" & key & "|") > 0 Then
        SheetbillNeeded = True
        Exit Function
    End If
    stem = key
    Do While Len(stem) > 0 And Right$(stem, 1) Like "#"
        stem = Left$(stem, Len(stem) - 1)
    Loop
    If stem <> key And Len(stem) > 0 Then SheetbillNeeded = InStr(HISTORY_KEYS, "|" & stem & "|") > 0
End Function

' The comma-separated names of this workbook's sheets that a run reads (RunServerPython's include).
Private Function SheetbillInclude() As String
    Dim ws As Worksheet, included As String
    For Each ws In ActiveWorkbook.Worksheets
        If SheetbillNeeded(ws.Name) Then
            If included <> "" Then included = included & ","
            included = included & ws.Name
        End If
    Next ws
    SheetbillInclude = included
End Function

' Bold, frozen header rows on the sheets the server wrote (their first cell has sheetbill's header fill).
Private Sub SheetbillFormatHeaders()
    Dim ws As Worksheet, current As Object
    Set current = ActiveSheet
    On Error Resume Next
    For Each ws In ActiveWorkbook.Worksheets
        If ws.Range("A1").Interior.Color = RGB(217, 225, 242) Then
            ws.Rows(1).Font.Bold = True
            ws.Activate
            With ActiveWindow
                .FreezePanes = False
                .SplitColumn = 0
                .SplitRow = 1
                .FreezePanes = True
            End With
        End If
    Next ws
    current.Activate
End Sub
