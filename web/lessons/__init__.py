"""The lessons: the library that loads lessons/*.md, the pages that show them, the Pygments
stylesheet generator, and each lesson's experiments (the buttons a learner presses)."""
