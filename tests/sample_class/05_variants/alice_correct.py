# about: a correct submission, written like the instructor's solution
# expected: 15
# base: solution
