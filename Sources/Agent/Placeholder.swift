enum _PlaceholderAgent {}
