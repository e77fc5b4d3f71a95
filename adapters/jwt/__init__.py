"""Bearer-token verification (JWT on joserfc) and the development token issuer."""
