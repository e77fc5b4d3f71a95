"""Pure rules of the MFA service. Standard library only; time and randomness come in as arguments."""
