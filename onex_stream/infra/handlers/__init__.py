"""Infra handlers: HTTP (httpx) and PostgreSQL (asyncpg) implementations of ProtocolHandler."""
