"""The local claims engine: DuckDB over a lake folder (Parquet or CSV), and the lake's checks. Only the local
runtime, the CLI, the benchmarks and the tests load it; a Lambda function reads the lake through Athena."""
