"""Product search: query understanding, BM25 + dense retrieval, hybrid merge, relevance evaluation."""
