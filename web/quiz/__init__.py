"""The quiz: the question bank, grading a learner's answers, a learner's progress through the
course (lessons done, questions right), and the views that serve them."""
