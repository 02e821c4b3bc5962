# about: a correct submission, written like the instructor's solution
# expected: 12
# base: solution
