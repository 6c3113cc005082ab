"""Code every service image carries: configuration, thread logic, adapters.

Adapters import their client library (pika, redis, pymongo) only when a real
connection is made, so the pure logic is testable without those packages.
"""
