"""Adapters: the ports implemented on AWS (boto3) and in memory (tests)."""
