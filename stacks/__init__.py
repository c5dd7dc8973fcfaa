"""CDK: one thin stack composing one construct per concern."""
