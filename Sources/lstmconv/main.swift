import LSTMConvCommands

LSTMConvRoot.prepareProcess()
LSTMConvRoot.mainReportingJSON()
