"""Web archives: WARC files read into articles for the write path."""
