# about: a correct submission, written like the instructor's solution
# expected: 20
# base: solution
