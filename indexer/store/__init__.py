"""Where an index lives: the local store (an index directory, FAISS + SQLite) or a Milvus deployment.

Both stand behind the same `Index` API (indexer/search/index.py) and the same
ranking code: a store retrieves (BM25 and dense candidates, the rows of
results) and the search stage scores. The modules, in the order data flows:
location (which store, connecting to Milvus), local (reading an index
directory), terms (text as FTS5 tokenizes it, for Milvus's BM25),
milvus_layout (collections, schemas, versions), milvus_write and
milvus_build (building into Milvus), milvus_filters and milvus_read
(searching it). docs/index-format.md describes both layouts.
"""
