"""Views of the training app, one module per audience: trainee, manage, authoring."""
