"""Alert rules: which mentions someone must hear about, and who."""
