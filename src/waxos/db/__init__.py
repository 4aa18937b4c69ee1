"""Database: engine and session factories, the models' base, migrations."""
