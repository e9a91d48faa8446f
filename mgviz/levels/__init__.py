"""The granularities of user interest; each is a function over canonical tables and arrays."""
