"""Embedding: texts -> unit vectors (embedder), with the default model adapted to briefings (adapter),
run by an engine (engines) whose ONNX model is built once (onnx_build, onnx_rewrite)."""
