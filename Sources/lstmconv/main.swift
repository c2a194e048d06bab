import LSTMConvCommands

LSTMConvRoot.main()
