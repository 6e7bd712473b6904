"""Records administration: thu nộp (transfers) and their deadlines, QĐ 458 indicators."""
