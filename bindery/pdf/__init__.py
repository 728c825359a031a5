"""The print edition: the layout, the reading PDF, the press PDF and the booklet."""
