"""The state database's parts: its schema, one module per concern (the rows of one or two
tables and the methods over them), and the Protocols its consumers depend on (`protocols`).
`agent.store.Store` joins the concerns into the one SQLite store of a DIGEST_HOME."""
