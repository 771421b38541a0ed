"""The bundled sandbox marketplace: a small local web shop for demos, training and tests."""
