print("reprise-mock-upstream: not built yet")
