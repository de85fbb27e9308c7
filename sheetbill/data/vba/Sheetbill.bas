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
' The sheet that carries the picked files to a sheetbill server, and base64 characters per cell
' (sheetbill.contract.STATEMENT_FILES_SHEET and STATEMENT_FILES_CHUNK).
Private Const FILES_SHEET As String = "sheetbill import files"
Private Const FILES_CHUNK As Long = 30000

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
' With Python on this PC the paths go to Python as hexadecimal digits (SheetbillHex), so no file name can
' become code or reach the shell that RunPython starts, whatever characters it has. With a sheetbill
' server the files' content goes in the request, on a sheet added for the moment (SheetbillImportByServer).
' Cancel does nothing.
Public Sub SheetbillImportBank()
    Dim picked As Variant, encoded As String, url As String, i As Long
    picked = Application.GetOpenFilename(STATEMENT_FILTER, 1, "sheetbill: Import bank statement", , True)
    If Not IsArray(picked) Then Exit Sub
    url = Trim$(SheetbillSetting("SheetbillServerUrl"))
    If url <> "" Then
        SheetbillImportByServer picked, url
        Exit Sub
    End If
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

' Import through the server: the files go on a sheet of their own (name in A, base64 content from B on,
' cells formatted as text), which is sent with the sheets a run reads and deleted afterwards.
Private Sub SheetbillImportByServer(ByVal picked As Variant, ByVal url As String)
    Dim wb As Workbook, ws As Worksheet, current As Object, content As String, reading As String
    Dim i As Long, row As Long, col As Long, at As Long, stage As String
    Set wb = ActiveWorkbook
    Set current = ActiveSheet
    SheetbillDropFilesSheet wb
    On Error GoTo Failed
    stage = "prepare"
    Application.ScreenUpdating = False
    Set ws = wb.Worksheets.Add(After:=wb.Worksheets(wb.Worksheets.Count))
    ws.Name = FILES_SHEET
    ws.Cells.NumberFormat = "@"
    stage = "read"
    For i = LBound(picked) To UBound(picked)
        reading = CStr(picked(i))
        row = row + 1
        ws.Cells(row, 1).Value = Mid$(reading, InStrRev(reading, Application.PathSeparator) + 1)
        content = SheetbillFileBase64(reading)
        col = 2
        For at = 1 To Len(content) Step FILES_CHUNK
            ws.Cells(row, col).Value = Mid$(content, at, FILES_CHUNK)
            col = col + 1
        Next at
    Next i
    current.Activate
    Application.ScreenUpdating = True
    stage = "send"
    If Right$(url, 1) = "/" Then url = Left$(url, Len(url) - 1)
    Application.Run "xlwings.xlam!RunServerPython", url & "/xlwings/custom-scripts-call/import-bank", _
        Trim$(SheetbillSetting("SheetbillServerToken")), "", SheetbillInclude() & "," & FILES_SHEET
    SheetbillDropFilesSheet wb
    SheetbillFormatHeaders
    Exit Sub
Failed:
    Application.ScreenUpdating = True
    If stage = "read" Then
        MsgBox "sheetbill could not read " & reading & ": " & Err.Description & vbCrLf & _
            "Nothing was imported. (A name with characters outside your Windows language may need renaming.)", _
            vbCritical, "sheetbill"
    ElseIf stage = "prepare" Then
        MsgBox "sheetbill could not add the sheet """ & FILES_SHEET & """ that carries the files to the server: " & _
            Err.Description & vbCrLf & "Nothing was imported.", vbCritical, "sheetbill"
    Else
        SheetbillNoAddin Err.Description
    End If
    SheetbillDropFilesSheet wb
    current.Activate
End Sub

' Delete the sheet of statement files, if there is one.
Private Sub SheetbillDropFilesSheet(ByVal wb As Workbook)
    Dim alerts As Boolean
    alerts = Application.DisplayAlerts
    Application.DisplayAlerts = False
    On Error Resume Next
    wb.Worksheets(FILES_SHEET).Delete
    Application.DisplayAlerts = alerts
End Sub

' A file's content in base64 ("" for an empty file).
Private Function SheetbillFileBase64(ByVal path As String) As String
    Dim f As Integer, data() As Byte, number As Long, description As String
    f = FreeFile
    Open path For Binary Access Read As #f
    On Error GoTo Failed
    If LOF(f) > 0 Then
        ReDim data(0 To LOF(f) - 1)
        Get #f, , data
        SheetbillFileBase64 = SheetbillBase64(data)
    End If
    Close #f
    Exit Function
Failed:
    number = Err.Number
    description = Err.Description
    Close #f
    Err.Raise number, "sheetbill", description
End Function

' Bytes in base64 (RFC 4648, with "=" padding).
Private Function SheetbillBase64(data() As Byte) As String
    Const ALPHABET As String = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    Dim i As Long, pos As Long, last As Long, b0 As Long, b1 As Long, b2 As Long, result As String
    last = UBound(data)
    result = String$(((last - LBound(data) + 1 + 2) \ 3) * 4, "=")
    pos = 1
    For i = LBound(data) To last Step 3
        b0 = data(i)
        b1 = 0
        b2 = 0
        If i + 1 <= last Then b1 = data(i + 1)
        If i + 2 <= last Then b2 = data(i + 2)
        Mid$(result, pos, 1) = Mid$(ALPHABET, (b0 \ 4) + 1, 1)
        Mid$(result, pos + 1, 1) = Mid$(ALPHABET, (b0 And 3) * 16 + (b1 \ 16) + 1, 1)
        If i + 1 <= last Then Mid$(result, pos + 2, 1) = Mid$(ALPHABET, (b1 And 15) * 4 + (b2 \ 64) + 1, 1)
        If i + 2 <= last Then Mid$(result, pos + 3, 1) = Mid$(ALPHABET, (b2 And 63) + 1, 1)
        pos = pos + 4
    Next i
    SheetbillBase64 = result
End Function

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
