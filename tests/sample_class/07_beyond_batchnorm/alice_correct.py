# about: a correct submission, written like the instructor's solution (the written answer is graded by hand)
# expected: 12
# base: solution
