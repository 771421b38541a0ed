"""The domain: typed models, states and their enums; imports nothing of the app but support."""
