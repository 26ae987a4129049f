// RepriseProxy: see ../shared/DESIGN.md (modules). Real sources land beside this file.
