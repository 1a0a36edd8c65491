"""The index on disk: a directory of versions (layout), each with its manifest, schema, rows and vectors,
verified by checksums (integrity), opened for reading (opening), written by a build and swapped in whole
(build, publishing). docs/index-format.md describes every file."""
