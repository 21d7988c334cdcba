"""The templates the desk writes with: what each is for, who gets it, and a realistic sample."""
