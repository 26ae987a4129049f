MockUpstreamCommand.main()
