# Models arrive with their feature issues; see README.md in this folder.
