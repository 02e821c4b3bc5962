# about: handed in the release untouched
# expected: 0
