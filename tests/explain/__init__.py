"""Tests of juanji.explain: the numbers each explainer shows, checked independently."""
