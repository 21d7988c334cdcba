"""Daily education digests: lessons after avoidable rejections, gathered into one email a day."""
