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
    MsgBox "sheetbill could not start: " & Err.Description & vbCrLf & vbCrLf & _
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
