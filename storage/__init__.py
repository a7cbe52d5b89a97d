"""The database: models, the engine, migrations and the queries that roll answers up."""
