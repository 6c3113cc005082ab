"""Everything on disk: .build/ paths, atomic writes, the .env files, image records."""
