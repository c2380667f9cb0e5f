"""Running where teams review: CI jobs on GitHub Actions and GitLab CI."""
