# about: a correct submission, written like the instructor's solution
# expected: 23
# base: solution
