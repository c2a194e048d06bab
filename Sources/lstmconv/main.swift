import LSTMConvCommands

LSTMConvRoot.prepareProcess()
LSTMConvRoot.main()
