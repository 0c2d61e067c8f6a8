"""The use cases: each Lambda handler calls exactly one function from here."""
