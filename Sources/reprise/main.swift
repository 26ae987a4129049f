print("reprise: not built yet")
