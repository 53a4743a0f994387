"""Post-compile passes: analyses over the compiled commands of a whole manifest.

Each pass runs once after the walk (`walk.compile_manifest`), reads what the compiler built
(`Compiler.built`, every compiled command in completion order: inner commands before the
command holding them) and records its results in the compiler's side tables or diagnostics.
"""
