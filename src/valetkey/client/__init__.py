"""The reference client: the photo-printer app, doing the authorization-code flow right."""
