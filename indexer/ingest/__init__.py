"""Reading transcripts: files -> documents (readers) -> turns with named speakers (turns, speakers) -> passages.

`corpus.read_corpus` runs the stage over files and folders, merges duplicates
(dedupe) and reuses earlier parses (parse_cache).
"""
