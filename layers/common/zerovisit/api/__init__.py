"""The HTTP API's boundary: what is checked before a route runs, and what each partner may see."""
